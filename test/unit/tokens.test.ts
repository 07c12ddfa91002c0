// Bearer tokens and tracking tokens: genuine ones verify, forged, tampered, truncated and foreign ones do not.
import { describe, expect, it } from 'vitest';
import {
  hashToken,
  issueTenant,
  parseBearerToken,
  rotateTenant,
  SIGNING_GRACE_SECONDS,
  tokenMatches,
  verificationSecrets,
} from '../../domain/tenant';
import { signTrackingToken, verifyTrackingToken } from '../../domain/tracking-token';

const NOW = 1_767_225_600;

describe('tenant credentials', () => {
  it('issues scoped tokens whose hashes alone are stored', () => {
    const issued = issueTenant('acme', 'acme-folder', NOW);
    expect(parseBearerToken(issued.connectToken)).toEqual({ scope: 'connect', tenantId: 'acme' });
    expect(parseBearerToken(issued.adminToken)).toEqual({ scope: 'admin', tenantId: 'acme' });
    expect(JSON.stringify(issued.tenant)).not.toContain(issued.connectToken);
    expect(JSON.stringify(issued.tenant)).not.toContain(issued.adminToken);
    expect(issued.tenant.connectTokenHash).toBe(hashToken(issued.connectToken));
    expect(tokenMatches(issued.connectToken, issued.tenant.connectTokenHash)).toBe(true);
    expect(tokenMatches(issued.adminToken, issued.tenant.connectTokenHash)).toBe(false);
  });

  it.each([
    '',
    'Bearer',
    'wc.acme',
    'wx.acme.secret',
    'wc.ACME.secret',
    'wc.acme.secret.extra',
    `wc.acme.${'x'.repeat(300)}`,
  ])('rejects the malformed bearer token %j', (token) => {
    expect(parseBearerToken(token)).toBeNull();
  });

  it('rejects ids and folders that break the rules', () => {
    expect(() => issueTenant('Acme!', 'f', NOW)).toThrow(/^tenant:/);
    expect(() => issueTenant('acme', '../etc', NOW)).toThrow(/^folder:/);
  });

  it('rotation replaces tokens and keeps the old signing secret for the grace period only', () => {
    const issued = issueTenant('acme', 'acme', NOW);
    const rotated = rotateTenant(issued.tenant, NOW);
    expect(tokenMatches(issued.connectToken, rotated.tenant.connectTokenHash)).toBe(false);
    expect(rotated.tenant.recipientKey).toBe(issued.tenant.recipientKey);
    const old = issued.tenant.signingSecrets[0]!.secret;
    expect(verificationSecrets(rotated.tenant, NOW + 10)).toContain(old);
    expect(verificationSecrets(rotated.tenant, NOW + SIGNING_GRACE_SECONDS + 1)).not.toContain(old);
    expect(verificationSecrets(rotated.tenant, NOW + SIGNING_GRACE_SECONDS + 1)).toHaveLength(1);
  });
});

describe('tracking tokens', () => {
  const claims = {
    tenantId: 'acme',
    experimentId: 'spring-sale',
    variantId: 'b',
    recipientKey: 'k'.repeat(43),
    sentAt: NOW,
  };
  const secret = 'secret-one';
  const token = signTrackingToken(claims, secret);

  it('are compact and URL-safe and verify without a store', () => {
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(token.length).toBeLessThan(140);
    expect(verifyTrackingToken(token, [secret])).toEqual(claims);
    expect(verifyTrackingToken(token, ['other', secret])).toEqual(claims);
  });

  it('reject forged, tampered, truncated and foreign tokens', () => {
    const parts = token.split('.');
    const variants = [
      parts.map((p, i) => (i === 3 ? 'a' : p)).join('.'), // another variant
      parts.map((p, i) => (i === 1 ? 'globex' : p)).join('.'), // another tenant
      parts.map((p, i) => (i === 5 ? (NOW + 1).toString(36) : p)).join('.'), // another send time
      token.slice(0, -1),
      token.slice(0, -5),
      `${token}A`,
      signTrackingToken(claims, 'someone-else'),
      '',
      'not.a.token',
    ];
    for (const bad of variants) expect(verifyTrackingToken(bad, [secret])).toBeNull();
  });
});
