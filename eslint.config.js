// Lint configuration: ESLint's recommended rules plus typescript-eslint's, over all our TypeScript.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // assembly/: AssemblyScript, built by asc
  { ignores: ['dist/', 'node_modules/', 'src/gen/', 'bench/.build/', 'build/', 'assembly/**/*.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
