// Filled in by the integration harness: checks that the real services answer before any test runs.
export default function setup(): void {}
