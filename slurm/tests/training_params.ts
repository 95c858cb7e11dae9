// The TypeScript side of the training-parameter contract, for test_params_contract.py: prints
// trainingParamsSchema (domain/spec.ts) as JSON, its defaults and its JSON Schema (types, ranges),
// and the params a warm start may not change.
import { z } from 'zod';
import { trainingParamsSchema, warmStartFixed } from '../../domain/spec';

console.log(JSON.stringify({ defaults: trainingParamsSchema.parse({}), schema: z.toJSONSchema(trainingParamsSchema), warmStartFixed }));
