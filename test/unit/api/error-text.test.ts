/** errorText: the words of whatever was thrown, never "[object Object]". */
import { errorText } from '../../../src/api/error-text.js';

describe('errorText', () => {
  it('takes an Error’s message and its cause’s', () => {
    expect(errorText(new Error('read failed', { cause: new Error('ECONNRESET') }))).toBe('read failed (ECONNRESET)');
    expect(errorText(new Error('read failed: ECONNRESET', { cause: new Error('ECONNRESET') }))).toBe(
      'read failed: ECONNRESET',
    );
  });

  it('reads an event that carries a message or an error (a WebSocket ErrorEvent)', () => {
    class ErrorEvent {
      readonly type = 'error';
      constructor(readonly error: Error) {}
      get message() {
        return this.error.message;
      }
    }
    expect(errorText(new ErrorEvent(new Error('connect ECONNREFUSED 127.0.0.1:1')))).toBe(
      'connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(errorText({ error: { message: 'socket hang up' } })).toBe('socket hang up');
  });

  it.each([
    [{ code: -32000, data: 'pool full' }, '{"code":-32000,"data":"pool full"}'],
    [{ type: 'close' }, '{"type":"close"}'],
    ['just words', 'just words'],
    [undefined, 'undefined'],
    [42, '42'],
  ])('never prints [object Object]: %p', (thrown, text) => {
    expect(errorText(thrown)).toBe(text);
  });

  it('names an object it cannot print', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(errorText(circular)).toBe('error without a message');
    expect(errorText({})).not.toMatch(/\[object/);
  });
});
