// Assignment items: how an assignment is written (a conditional Put, so a recipient is assigned once) and read.
import type { Put } from '@aws-sdk/client-dynamodb';
import type { Assignment, AssignmentKey } from '../../domain/ports/assignment-ledger';
import { type Item, key, n, num, s, str } from './attributes';
import { keys } from './keys';

/** The Put of a first assignment, refused when the recipient already has one (whose item then comes back). */
export function newAssignmentPut(
  tableName: string,
  a: AssignmentKey & { readonly variantId: string; readonly sentAt: number; readonly expiresAt: number },
  extra: Item,
): Put {
  return {
    TableName: tableName,
    Item: {
      ...key(keys.assignment(a.tenantId, a.experimentId, a.recipientKey)),
      variant: s(a.variantId),
      sent_at: n(a.sentAt),
      expires_at: n(a.expiresAt),
      ...extra,
    },
    ConditionExpression: 'attribute_not_exists(pk)',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

export function toAssignment(k: AssignmentKey, item: Item | undefined): Assignment | null {
  const variantId = str(item, 'variant');
  if (!item || !variantId) return null;
  return {
    tenantId: k.tenantId,
    experimentId: k.experimentId,
    recipientKey: k.recipientKey,
    variantId,
    sentAt: num(item, 'sent_at') ?? 0,
    campaignId: str(item, 'campaign'),
    openedAt: num(item, 'opened_at'),
    clickedAt: num(item, 'clicked_at'),
  };
}
