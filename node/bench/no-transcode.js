'use strict';
// Preload for comparisons (`node -r ./bench/no-transcode.js rpc-host.js`): replace the ICU
// transcode paths of lib/utf8.js by plain Buffer#toString / Buffer.from.
const { isUtf8 } = require('node:buffer');
const utf8 = require('../lib/utf8');
utf8.decodeUtf8 = (bytes) => (isUtf8(bytes) ? bytes.toString('utf8') : undefined);
utf8.encodeUtf8 = (text) => Buffer.from(text, 'utf8');
utf8.prefersTranscode = () => false;
