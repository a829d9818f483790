// Jest runs the TypeScript sources as ES modules (near-api-js 7 is ESM-only), hence
// `node --experimental-vm-modules` in the npm test script.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.js',
  // The secret scan of every history and worker log of the run: a hit fails the run.
  globalTeardown: '<rootDir>/test/global-teardown.js',
  // Real servers (Temporal, sshd) start in these tests; bundling alone takes seconds.
  testTimeout: 120_000,
  // Two cores: run files one at a time so the JVM, the dev server and sshd do not starve each other.
  maxWorkers: 1,
  verbose: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
