import { defineConfig } from 'drizzle-kit';

// Generates adapters/db/migrations from the schema (`npm run db:generate`). Migrations are
// applied by the registry itself when it opens (adapters/db/open.ts), so no credentials here.
export default defineConfig({
  dialect: 'postgresql',
  schema: './adapters/db/schema.ts',
  out: './adapters/db/migrations',
});
