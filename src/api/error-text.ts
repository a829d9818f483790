/**
 * The words of a thrown value, for messages people read. Libraries throw more than Errors: polkadot-js
 * rejects with a WebSocket ErrorEvent (its `message` is a getter, and `String()` of it is "[object Object]"),
 * others reject with plain objects or strings. Pure code: workflows use it too.
 */
export function errorText(err: unknown): string {
  const own = messageIn(err);
  if (own === undefined) return fallbackText(err);
  const cause = messageIn((err as { cause?: unknown }).cause) ?? messageIn((err as { error?: unknown }).error);
  return cause && cause !== own && !own.includes(cause) ? `${own} (${cause})` : own;
}

function messageIn(value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined;
  if (value === null || typeof value !== 'object') return undefined;
  const message = (value as { message?: unknown }).message;
  if (typeof message === 'string' && message) return message;
  // An event or wrapper that carries the error itself.
  const inner = (value as { error?: unknown }).error;
  return inner !== value ? messageIn(inner) : undefined;
}

function fallbackText(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const type = (err as { type?: unknown }).type;
  const name = (err as { constructor?: { name?: unknown } }).constructor?.name;
  try {
    const json = JSON.stringify(err);
    if (json && json !== '{}') return json.length > 300 ? `${json.slice(0, 300)}…` : json;
  } catch {
    // circular: fall through to the type's name
  }
  const kind = typeof type === 'string' && type ? `${type} ` : '';
  return `${kind}${typeof name === 'string' && name !== 'Object' ? name : 'error'} without a message`;
}
