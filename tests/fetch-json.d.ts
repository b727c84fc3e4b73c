// Test code reads JSON answers loosely and asserts on them; service code never sees this (tsconfig.test.json only).
interface Response {
  json<T = any>(): Promise<T>;
}
