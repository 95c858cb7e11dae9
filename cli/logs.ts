// mlc logs: the training job's log, read from the shared artifact folder the job writes to.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LifecycleStatus } from '../domain/lifecycle';
import { statusQuery } from '../workflows/messages';
import { CliError } from './cli-error';
import { lifecycleHandle, type CliContext } from './context';

export async function logsCommand(ctx: CliContext, id: string, opts: { follow?: boolean; lines?: string }) {
  const handle = await lifecycleHandle(ctx, id);
  let status: LifecycleStatus = await handle.query(statusQuery);
  const t = status.training;
  if (!t?.jobId) throw new CliError(`${handle.workflowId} has no training job yet (stage: ${status.stage}).`);
  const dir = path.join(ctx.config.paths.artifacts, t.runDir);
  const file = await findLog(dir, t.jobId);
  const body = await fs.readFile(file, 'utf8');
  const lines = body.split('\n');
  process.stdout.write(lines.slice(-Number(opts.lines ?? 50)).join('\n'));
  if (!opts.follow) return;
  let offset = Buffer.byteLength(body);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const handleFile = await fs.open(file, 'r');
    try {
      const { size } = await handleFile.stat();
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        await handleFile.read(buf, 0, buf.length, offset);
        process.stdout.write(buf);
        offset = size;
      }
    } finally {
      await handleFile.close();
    }
    status = await handle.query(statusQuery);
    const job = status.training;
    if (job?.jobId !== t.jobId || job.jobPhase === 'succeeded' || job.jobPhase === 'failed') break;
  }
}

async function findLog(dir: string, jobId: string): Promise<string> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const match = names.find((n) => n === `slurm-${jobId}.out`) ?? names.find((n) => n.startsWith(`slurm-${jobId}_`) || n.startsWith(`local-`));
  if (!match) throw new CliError(`No log for job ${jobId} in ${dir} yet (the job may still be pending).`);
  return path.join(dir, match);
}
