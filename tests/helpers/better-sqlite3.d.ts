/** Types for the parts of better-sqlite3 (which ships none) that the test relay uses. */
declare module "better-sqlite3" {
  interface Statement {
    get(...params: unknown[]): unknown;
  }
  export default class Database {
    constructor(filename: string);
    prepare(sql: string): Statement;
    close(): void;
  }
}
