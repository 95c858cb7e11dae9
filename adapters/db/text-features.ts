// Script counts of a prediction's text, as the database computes them when the row is written
// (generated columns of `predictions`, see schema.ts): one regular expression per script per
// row at insert, instead of four per row for every monitoring run that reads it. The ranges are
// domain/monitoring/features.ts's, so SQL and the TypeScript accumulator count alike.
import { sql, type SQL } from 'drizzle-orm';
import { scriptPattern, type Script } from '../../domain/monitoring/features';

/** Characters of `script` in the "text" column: its length minus its length with them removed. */
export function scriptCharsSql(script: Script): SQL {
  return sql.raw(`char_length("text") - char_length(regexp_replace("text", '${scriptPattern(script)}+', '', 'g'))`);
}
