// The page's one mutable state: the token, the experiments, the selection and its report, the live charts.

export const state = {
  token: null,
  experiments: [],
  selectedId: null,
  report: null,
  /** Bumped whenever the selection changes, so a slow answer for the previous experiment is dropped. */
  generation: 0,
  timer: null,
  busy: false,
  charts: { rate: null, allocation: null, cumulative: null },
};
