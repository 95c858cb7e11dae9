// The codec server as a process of its own, so the Web UI decodes payloads whether or not a
// worker runs: scripts/services/codec.sh starts it next to the Temporal dev server, which
// scripts/services/temporal.sh points at it with --ui-codec-endpoint.
//   node --import tsx adapters/temporal-codec/serve.ts                      serve until SIGTERM/SIGINT
//   node --import tsx adapters/temporal-codec/serve.ts --print-url          http://host:port
//   node --import tsx adapters/temporal-codec/serve.ts --print-ui-endpoint  the URL the Web UI is given,
//                                                                           token included (a secret)
import { loadConfig } from '../../temporal.config';
import { httpUrl, startCodecServer } from './codec-server';
import { loadCodec } from './data-converter';
import { loadCodecServerToken } from './server-token';

async function main(args: string[]) {
  const config = loadConfig();
  const { server } = config.temporal.codec;
  const url = httpUrl(server.host, server.port);
  const tokenSource = process.env[server.tokenEnv]?.trim() ? `env ${server.tokenEnv}` : server.tokenFile;
  if (args[0] === '--print-url') return console.log(url);
  if (args[0] === '--print-ui-endpoint') return console.log(`${url}/${await loadCodecServerToken(server)}`);
  if (args.length) throw new Error(`unknown argument ${args[0]}; use --print-url, --print-ui-endpoint or nothing (serve)`);

  const codec = await loadCodec(config.temporal.codec);
  const running = await startCodecServer({
    host: server.host,
    port: server.port,
    codec,
    token: await loadCodecServerToken(server),
    tokenSource,
    uiUrl: config.temporal.uiUrl,
    onError: (err) => console.error(`codec server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  });
  const keys = [...codec.keyring.keys.values()].map((k) => (k === codec.keyring.primary ? `${k.id} (encrypts)` : k.id));
  console.log(
    `mlc codec server ready: ${running.url} for the Web UI at ${running.allowedOrigins.join(', ')}; ` +
      `keys ${keys.join(', ')}; callers present the token in ${tokenSource}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exit(1);
});
