// How long rewards take to arrive after a send. The policy weighs each unrewarded send by the probability
// that its reward would have arrived by now; a fresh send is not yet evidence of failure.

export interface DelayModel {
  /** P(a reward that will come has arrived within `ageSeconds` of the send). */
  arrivedBy(ageSeconds: number): number;
}

/** Every reward is assumed to have arrived: the plain (naive) Beta-Bernoulli model. */
export const NO_DELAY: DelayModel = { arrivedBy: () => 1 };
