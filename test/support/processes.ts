// Finds the process listening on a local TCP port (to freeze DynamoDB Local under a running stack).
import { execFileSync } from 'node:child_process';

export function pidListeningOn(port: number): number {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(out);
  if (!match) throw new Error(`no process listens on port ${port}`);
  return Number(match[1]);
}
