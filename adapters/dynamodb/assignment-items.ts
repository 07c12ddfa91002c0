// Assignment items: how an assignment is written (a conditional Put, so a recipient is assigned once) and read.
import type { Put } from '@aws-sdk/client-dynamodb';
import type { RewardKind, RewardSource, RewardState } from '../../domain/counting';
import type { Assignment, AssignmentKey, Reward } from '../../domain/ports/assignment-ledger';
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
    openedAt: num(item, REWARD_ATTRIBUTE.open),
    machineOpenedAt: num(item, REWARD_ATTRIBUTE.machine_open),
    clickedAt: num(item, REWARD_ATTRIBUTE.click),
    clickSource: (str(item, 'click_source') as RewardSource | null) ?? null,
    convertedAt: num(item, REWARD_ATTRIBUTE.conversion),
  };
}

/** The attribute holding when the first reward of each kind happened. */
export const REWARD_ATTRIBUTE: Readonly<Record<RewardKind, string>> = {
  open: 'opened_at',
  machine_open: 'machine_opened_at',
  click: 'clicked_at',
  conversion: 'converted_at',
};

/** What a first reward stores on its assignment: when it happened, when weft saw it, and for clicks where. */
export function rewardAttributes(r: Reward): Item {
  const at = REWARD_ATTRIBUTE[r.kind];
  return {
    [at]: n(r.at),
    [at.replace(/_at$/, '_visible_at')]: n(r.visibleAt),
    ...(r.kind === 'click' ? { click_source: s(r.source) } : {}),
  };
}

export const stateOf = (a: Assignment): RewardState => ({
  opened: a.openedAt !== null,
  machineOpened: a.machineOpenedAt !== null,
});
