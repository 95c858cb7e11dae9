// Loaded with `node --import`: appends every module URL the process resolves to the file named by
// MLC_RECORD_IMPORTS, so a test can see what a command loaded.
import { register } from 'node:module';
import process from 'node:process';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.MLC_RECORD_IMPORTS } });
