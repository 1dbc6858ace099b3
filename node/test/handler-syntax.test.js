'use strict';
// A handler module that does not parse: the host exits 2 with ONE record naming
// file:line:column (column in code points), the source line and a caret — for ES modules,
// whose SyntaxError carries no location, as for CommonJS.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startHost, fixture } = require('../test-support/wire');

for (const [name, line, lineText, culprit] of [
  ['syntax-error.mjs', 4, '  bad() { const s = "é你😀"; return s +* 2; },', '*'],
  ['syntax-error.cjs', 3, '  methods: { a() { return 1 +* 2; } },', '*'],
]) {
  test(`${name}: exit 2, one error record naming ${name}:${line}:<column> with the line and a caret`, async (t) => {
    const host = startHost(t, ['--handlers', fixture(name)]);
    host.end();
    const { code } = await host.exited;
    assert.equal(code, 2);
    await host.finished();
    const records = host.stderrText.trim().split('\n').map((text) => JSON.parse(text)).filter((r) => r.level === 'error');
    assert.equal(records.length, 1, host.stderrText);
    const [head, shown, caret] = records[0].msg.split('\n');
    const match = new RegExp(`^handler module (.+):(\\d+):(\\d+): SyntaxError: Unexpected token '\\*'$`).exec(head);
    assert.ok(match, head);
    assert.equal(match[1], fixture(name));
    assert.equal(Number(match[2]), line);
    assert.equal([...lineText][Number(match[3]) - 1], culprit); // code points: the emoji counts one
    assert.equal(shown.trim(), lineText.trim());
    assert.equal(caret.trim(), '^');
    assert.equal(records[0].msg.split('SyntaxError').length, 2); // said once, no stack of Node internals
  });
}
