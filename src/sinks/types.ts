/** The records and the Sink interface live in model/records.ts (the pipeline and the state store use them too). */
export * from '../model/records.js';
