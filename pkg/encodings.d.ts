// Types of ppdb's keys and values: what they may be written as and what they read back as,
// per encoding (re-exported by index.d.ts).

/** Keys and values are strings (stored as UTF-8) or bytes. The empty key is a key too. */
export type Data = string | Uint8Array;

/** How keys come back: 'utf8' as strings (the default), 'bytes' as Uint8Array. */
export type KeyEncoding = 'utf8' | 'bytes';

/** 'utf8' or 'bytes': the encodings keys and values share. */
export type Encoding = KeyEncoding;

/**
 * How values are stored and come back:
 * - 'utf8' (the default): strings, stored as UTF-8.
 * - 'bytes': Uint8Array.
 * - 'json': what `JSON.parse` gives back exactly (see `JsonValue`), checked and encoded in
 *   JS with `JSON.stringify`: plain objects, arrays, strings, finite numbers other than -0,
 *   booleans and null. Anything JSON would change (undefined, NaN, Infinity, -0, Date,
 *   Map, Set, typed arrays, class instances, objects with toJSON or symbol keys,
 *   functions, symbols, BigInt, cycles) is refused with INVALID_ARGUMENT naming where it
 *   is (`$.a.when: Date`).
 * - 'structured': what structured clone (IndexedDB, Dexie) holds (see `StructuredValue`),
 *   stored as devalue text (docs/format.md): also Date, Map, Set, typed arrays, ArrayBuffer,
 *   DataView, BigInt, RegExp, undefined, NaN, ±Infinity, -0, sparse arrays, shared and
 *   cyclic references, nested up to 500 levels. What it cannot give back exactly
 *   (functions, symbols, class instances, Error, subclasses of the built-ins, arrays with
 *   extra properties) is refused with INVALID_ARGUMENT.
 */
export type ValueEncoding = 'utf8' | 'bytes' | 'json' | 'structured';

/** What keys read back as, per key encoding. */
export interface KeyTypes {
  utf8: string;
  bytes: Uint8Array;
}

/** What values read back as, per value encoding, when the store has not named a type of its own. */
export interface ValueTypes {
  utf8: string;
  bytes: Uint8Array;
  json: JsonValue;
  structured: StructuredValue;
}

/** What a value may be written as, per value encoding: utf8 and bytes take either form. */
export interface InputTypes {
  utf8: Data;
  bytes: Data;
  json: JsonValue;
  structured: StructuredValue;
}

/** A value 'json' stores exactly: what `JSON.parse` can give back. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The typed arrays 'structured' values may hold (with their element type kept). */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A value 'structured' stores exactly: JSON's values and BigInt, Date, RegExp, ArrayBuffer,
 * DataView, typed arrays, Map and Set, nested up to 500 levels (shared and cyclic
 * references too); `undefined` as an object's property or an array's element (as the
 * whole value it is stored, but a read's `undefined` means absent).
 */
export type StructuredValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Date
  | RegExp
  | ArrayBuffer
  | DataView
  | TypedArray
  | (StructuredValue | undefined)[]
  | Map<StructuredValue, StructuredValue | undefined>
  | Set<StructuredValue>
  | { [key: string]: StructuredValue | undefined };

/**
 * What a store whose values read as `V` takes as a value: either form (string or
 * Uint8Array) when `V` is one of them (a 'utf8' or 'bytes' store), else `V` itself (a 'json'
 * or 'structured' store).
 */
export type ValueInput<V> = [V] extends [string] ? Data : [V] extends [Uint8Array] ? Data : V;

/** The key type of a read: the store's `K`, unless the call names a `keyEncoding`. */
export type KeyAs<KE extends KeyEncoding | undefined, K> = KE extends KeyEncoding ? KeyTypes[KE] : K;

/** The value type of a read: the store's `V`, unless the call names a `valueEncoding`. */
export type ValueAs<VE extends ValueEncoding | undefined, V> = VE extends ValueEncoding ? ValueTypes[VE] : V;
