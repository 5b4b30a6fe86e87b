import { builtinConnector } from "../../connectors/builtin/index.js";
import { startBuiltinFake } from "../../connectors/builtin/fixtures/fake.js";
import { describeConnectorContract } from "../../connectors/sdk/contract.js";

describeConnectorContract("builtin", {
  connector: builtinConnector,
  startFake: startBuiltinFake,
  config: () => ({}),
  // No required field: the suite skips "rejects {}" and "rejects an emptied field".
  requiredField: "",
  expect: { noIo: true },
});
