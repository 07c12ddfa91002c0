declare module 's3rver' {
  import type { EventEmitter } from 'node:events';

  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory: string;
    configureBuckets?: Array<{ name: string }>;
    resetOnClose?: boolean;
  }
  class S3rver extends EventEmitter {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
  export default S3rver;
}

declare module 'autocannon' {
  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    setupRequest?: (request: Request) => Request;
  }
  interface Options {
    url: string;
    connections?: number;
    amount?: number;
    duration?: number;
    headers?: Record<string, string>;
    requests?: Request[];
  }
  interface Histogram {
    p50: number;
    p90: number;
    p99: number;
    average: number;
    max: number;
  }
  interface Result {
    requests: { average: number; total: number };
    latency: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
    '2xx': number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}

// cli-progress ships no types and @types/cli-progress is not installed: only what cli/progress.ts uses.
declare module 'cli-progress' {
  interface BarParams {
    readonly progress: number;
    readonly value: number;
    readonly total: number;
  }
  interface Options {
    stream?: NodeJS.WritableStream;
    format?: string | ((options: Options, params: BarParams, payload: Record<string, unknown>) => string);
    barsize?: number;
    barCompleteChar?: string;
    barIncompleteChar?: string;
    linewrap?: boolean;
    hideCursor?: boolean;
    fps?: number;
  }
  export class SingleBar {
    constructor(options: Options);
    start(total: number, startValue: number, payload?: Record<string, unknown>): void;
    update(value: number, payload?: Record<string, unknown>): void;
    setTotal(total: number): void;
    stop(): void;
  }
  export const Format: {
    BarFormat(progress: number, options: Options): string;
  };
}
