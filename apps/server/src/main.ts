import { loadEnv } from './env.ts';
import { startTandemServer } from './TandemServer.ts';

process.env.NEXT_TELEMETRY_DISABLED = '1';

let env;
try {
  env = loadEnv();
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}

try {
  const started = Date.now();
  const tandem = await startTandemServer(env, { withWeb: env.web });
  console.log(`Tandem is running at ${tandem.url} (${tandem.db.kind} database${env.DATABASE_URL ? '' : ` in ${env.TANDEM_DATA_DIR}`}; started in ${Date.now() - started} ms)`);
  const shutdown = (signal: string) => {
    console.log(`${signal}: shutting down…`);
    tandem.close().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (e) {
  console.error(`Tandem could not start: ${(e as Error).message}`);
  process.exit(1);
}
