'use strict';
// Message texts (lib/messages.js): a large serialised member stays apart from its envelope.

const test = require('node:test');
const assert = require('node:assert/strict');
const { SEPARATE, resultText, errorText, notificationText, requestText, arrayText, joinText } = require('../lib/messages');

const big = 'ü"\\😀'.repeat(SEPARATE / 2);

test('small texts are one string, exactly as before', () => {
  assert.equal(resultText(1, { a: 'é' }), '{"jsonrpc":"2.0","id":1,"result":{"a":"é"}}');
  assert.equal(resultText('x', undefined), '{"jsonrpc":"2.0","id":"x","result":null}');
  assert.equal(resultText(2, () => 1), '{"jsonrpc":"2.0","id":2,"result":null}');
  assert.equal(errorText(null, { code: -1, message: 'm' }), '{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"m"}}');
  assert.equal(notificationText('n', [1]), '{"jsonrpc":"2.0","method":"n","params":[1]}');
  assert.equal(notificationText('n'), '{"jsonrpc":"2.0","method":"n"}');
  assert.equal(requestText(3, 'm', { p: 1 }), '{"jsonrpc":"2.0","id":3,"method":"m","params":{"p":1}}');
  assert.equal(arrayText(['1', '2']), '[1,2]');
});

test('a large member comes as [envelope head, member, tail]; joined, the same text as before', () => {
  const json = JSON.stringify({ big });
  const cases = [
    [resultText(1, { big }), `{"jsonrpc":"2.0","id":1,"result":${json}}`],
    [errorText(2, { code: -32603, message: 'm', data: { big } }), `{"jsonrpc":"2.0","id":2,"error":${JSON.stringify({ code: -32603, message: 'm', data: { big } })}}`],
    [notificationText('n', { big }), `{"jsonrpc":"2.0","method":"n","params":${json}}`],
    [requestText(3, 'm', { big }), `{"jsonrpc":"2.0","id":3,"method":"m","params":${json}}`],
  ];
  for (const [text, expected] of cases) {
    assert.ok(Array.isArray(text) && text.length === 3);
    assert.equal(text[1].length >= SEPARATE, true);
    assert.equal(joinText(text), expected);
  }
});

test('arrayText flattens pieces into one list of strings', () => {
  const large = resultText(1, big);
  const text = arrayText(['{"a":1}', large, '{"b":2}']);
  assert.ok(Array.isArray(text));
  assert.ok(text.every((piece) => typeof piece === 'string'));
  assert.equal(joinText(text), `[{"a":1},${joinText(large)},{"b":2}]`);
  assert.deepEqual(JSON.parse(joinText(text)), [{ a: 1 }, { jsonrpc: '2.0', id: 1, result: big }, { b: 2 }]);
});
