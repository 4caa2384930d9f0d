// Values a page writes through a proxy in 'json' or 'structured' are encoded on the page,
// into bytes the worker stores as they are: the caller's own value is what is checked.
// Structured cloning on the way to the worker would otherwise change what no check could
// see any more (a class instance becomes a plain object, symbol keys are dropped), and
// the worker would store that.
import { codecLoading, codecReady, encodeValue } from '../api/encoding.js';
import { readField, readOptions } from '../api/options.js';

const encodedHere = (encoding) => encoding === 'json' || encoding === 'structured';

/**
 * The arguments of `method` (a Db method sent to the worker) with its 'json' and
 * 'structured' values encoded (`valueEncoding` is the store's), or a promise of them when
 * the 'structured' codec is still loading. Throws what the encoding refuses.
 */
export function encodeArguments(method, args, valueEncoding) {
  if (method !== 'put' && method !== 'batch') return args;
  const own = readOptions(args[method === 'put' ? 2 : 1], `${method}() options`, ['valueEncoding']).valueEncoding;
  const encoding = own ?? valueEncoding;
  // Writes wait while a codec loads, so that they stay in the order they were made.
  const loading = codecReady(encoding) ?? codecLoading() ?? (method === 'batch' ? batchCodec(args[0]) : null);
  if (loading) return loading.then(() => encodeArguments(method, args, valueEncoding));
  if (method === 'put') {
    if (!encodedHere(encoding)) return args;
    return [args[0], encodeValue(args[1], encoding), { valueEncoding: 'bytes' }];
  }
  if (!Array.isArray(args[0])) return args;
  const operations = args[0].map((op, i) => {
    if (op === null || typeof op !== 'object' || readField(op, 'type', `operation ${i}`) !== 'put') return op;
    const opEncoding = readField(op, 'valueEncoding', `operation ${i}`) ?? encoding;
    if (!encodedHere(opEncoding)) return op;
    const key = readField(op, 'key', `operation ${i}`);
    return { type: 'put', key, value: encodeValue(readField(op, 'value', `operation ${i}`), opEncoding), valueEncoding: 'bytes' };
  });
  return [operations, args[1]];
}

/** The codec loading an operation of `operations` needs, or null. */
function batchCodec(operations) {
  if (!Array.isArray(operations)) return null;
  for (const op of operations) {
    if (op !== null && typeof op === 'object') {
      const loading = codecReady(readField(op, 'valueEncoding', 'an operation'));
      if (loading) return loading;
    }
  }
  return null;
}
