// The delay model each experiment's policy uses: the tenant's recorded send-to-reward delays for the
// experiment's metric, blended with a sane default, refreshed at most once a minute per container.
import { RefreshingCache } from './cache';
import { rewardKindOf } from './counting';
import { type DelayModel, defaultDelayOf, learnedDelayModel } from './delay';
import type { Metric } from './experiment';
import type { DelayReader } from './ports/delay-reader';

const MAX_AGE_SECONDS = 60;

export class DelayModels {
  private readonly cache: RefreshingCache<DelayModel>;

  constructor(
    private readonly reader: DelayReader,
    private readonly clock: () => number,
    onBackgroundError?: (error: unknown) => void,
  ) {
    this.cache = new RefreshingCache(10_000, onBackgroundError);
  }

  /** Falls back to the default model when the store cannot be read: the policy must not stall on it. */
  async forMetric(tenantId: string, metric: Metric): Promise<DelayModel> {
    const kind = rewardKindOf(metric);
    const fallback = defaultDelayOf(metric);
    try {
      return await this.cache.get(
        `${tenantId}/${kind}`,
        async () => learnedDelayModel(await this.reader.histogram(tenantId, kind), fallback),
        this.clock(),
        MAX_AGE_SECONDS,
      );
    } catch {
      return fallback;
    }
  }
}
