// The file names of medeval's config JSON Schemas (json-schema.ts writes them): a leaf module, so code
// that only needs the names (the output-path check every command runs) does not load the zod schemas of
// every runner kind, suite and experiment to get them.
export const CONFIG_SCHEMA_FILES = {
  runnerProfile: 'runner-profile.schema.json',
  suite: 'suite.schema.json',
  experiment: 'experiment.schema.json',
} as const;
