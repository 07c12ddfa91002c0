// The local stack listens on 127.0.0.1 only (README, Security): serverless-offline's HTTP API and its Lambda
// port, the local S3 and DynamoDB Local each answer on loopback and refuse a connection to every other address
// this machine has.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../support/local-stack';

/** The machine's addresses beyond loopback, ready to dial (link-local IPv6 with its interface). */
function otherAddresses(): string[] {
  const addresses: string[] = [];
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      addresses.push(
        entry.family === 'IPv6' && entry.address.startsWith('fe80:')
          ? `${entry.address}%${name}`
          : entry.address,
      );
    }
  }
  return addresses;
}

/** 'open' when a TCP connection is accepted; 'closed' when refused, unreachable or unanswered within 2 s. */
function dial(host: string, port: number): Promise<'open' | 'closed'> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: 'open' | 'closed') => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2_000, () => done('closed'));
    socket.once('connect', () => done('open'));
    socket.once('error', () => done('closed'));
  });
}

describe('local stack on loopback only', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
  }, 150_000);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('answers on 127.0.0.1 and on no other address of the machine: HTTP API, Lambda port, S3, DynamoDB', async (context) => {
    const addresses = otherAddresses();
    if (addresses.length === 0) context.skip('this machine has no network interface but loopback');
    const ports = Object.entries(stack.ports);

    const reached: string[] = [];
    for (const [server, port] of ports) {
      expect(await dial('127.0.0.1', port), `${server} on 127.0.0.1:${port}`).toBe('open');
      for (const address of addresses) {
        if ((await dial(address, port)) === 'open') reached.push(`${server} on ${address} port ${port}`);
      }
    }

    expect(ports.map(([server]) => server).sort()).toEqual(['dynamodb', 'http', 'lambda', 's3']);
    expect(reached).toEqual([]);
  });
});
