'use strict';
/*
 * The benchmarks' test text: `mixed(size, ascii)` returns at least `size` UTF-8 bytes of a
 * deterministic mix of ASCII, quotes and backslashes, CJK, emoji (surrogate pairs) and Latin-1
 * accents; with `ascii` true, plain ASCII words only. Shared by codec.js and echo-rate.js.
 */

function mixed(size, ascii = false) {
  const parts = ascii ? ['hello world ', 'abc def '] : ['hello "world" \\ ', '漢字テスト', '😀🎉', 'abc ', 'ünïcödé ', 'x'];
  let seed = 7;
  const out = [];
  let n = 0;
  while (n < size) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const p = parts[seed % parts.length];
    out.push(p);
    n += Buffer.byteLength(p);
  }
  return out.join('');
}

module.exports = { mixed };
