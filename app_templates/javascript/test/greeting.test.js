import assert from "node:assert/strict";
import { test } from "node:test";

import { greeting } from "../src/greeting.js";

test("greeting", () => {
  assert.equal(greeting(), "Hello, world!");
  assert.equal(greeting("you"), "Hello, you!");
});
