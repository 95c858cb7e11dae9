// Failure messages and stack traces are not payloads, so the codec alone would leave them in
// clear in history ("cannot read /srv/data/..."). With encodeCommonAttributes the SDK moves them
// into an encoded attribute, which the codec then encrypts; the Web UI decodes it through the
// codec server like any payload, and every SDK decodes it whatever its own setting.
// CommonJS on purpose: the SDK require()s this file by path (data-converter.ts names it) in
// processes that cannot require TypeScript (Node 20 under vitest), and bundles it into workflows.
/* global require, exports */
'use strict';
// @temporalio/common is the package @temporalio/client and /worker are built on (same version);
// neither re-exports this class.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
