import { describe, expect, it } from "vitest";
import { hasWildcard, isValidTopicFilter, topicMatches } from "../../src/ingest/topic-filter.js";

describe("isValidTopicFilter", () => {
  it.each([
    ["a/b/c", true],
    ["a", true],
    ["+", true],
    ["#", true],
    ["a/+/c", true],
    ["+/+/+", true],
    ["a/#", true],
    ["+/#", true],
    ["a//b", true],
    ["/a", true],
    ["a/", true],
    ["$SYS/#", true],
    ["", false],
    ["a/#/b", false],
    ["#/a", false],
    ["a+", false],
    ["+a", false],
    ["a/b+/c", false],
    ["#a", false],
    ["a#", false],
    ["a/b#", false],
    ["##", false],
    ["++", false],
  ])("%j → %s", (filter, valid) => {
    expect(isValidTopicFilter(filter)).toBe(valid);
  });
});

describe("hasWildcard", () => {
  it.each([
    ["a/b/c", false],
    ["a//b", false],
    ["$SYS/broker/uptime", false],
    ["a/+/c", true],
    ["+", true],
    ["a/#", true],
    ["#", true],
  ])("%j → %s", (filter, wild) => {
    expect(hasWildcard(filter)).toBe(wild);
  });
});

describe("topicMatches", () => {
  describe("exact filters", () => {
    it.each([
      ["a/b/c", "a/b/c", true],
      ["a/b/c", "a/b", false],
      ["a/b", "a/b/c", false],
      ["a/b/c", "a/b/d", false],
      ["a/b/c", "A/b/c", false],
      ["a", "a", true],
      ["a", "a/", false],
    ])("%j vs %j → %s", (filter, topic, expected) => {
      expect(topicMatches(filter, topic)).toBe(expected);
    });
  });

  describe("+ matches exactly one level", () => {
    it.each([
      ["a/+/c", "a/b/c", true],
      ["a/+/c", "a/xyz/c", true],
      ["a/+/c", "a/b/d", false],
      ["a/+/c", "a/b/x/c", false],
      ["a/+/c", "a/c", false],
      ["a/+", "a/b", true],
      ["a/+", "a/b/c", false],
      ["a/+", "a", false],
      ["a/+", "a/", true],
      ["+", "a", true],
      ["+", "a/b", false],
      ["+/+", "a/b", true],
      ["+/+", "/b", true],
      ["+", "/a", false],
      ["+/b/+", "a/b/c", true],
    ])("%j vs %j → %s", (filter, topic, expected) => {
      expect(topicMatches(filter, topic)).toBe(expected);
    });
  });

  describe("# matches the rest, including the parent level", () => {
    it.each([
      ["a/#", "a/b", true],
      ["a/#", "a/b/c/d", true],
      ["a/#", "a", true],
      ["a/#", "a/", true],
      ["a/#", "b", false],
      ["a/#", "b/a", false],
      ["a/#", "ab/c", false],
      ["a/b/#", "a", false],
      ["a/b/#", "a/b", true],
      ["a/b/#", "a/c/b", false],
      ["#", "a", true],
      ["#", "a/b/c", true],
      ["+/#", "a", true],
      ["+/b/#", "a/b/c/d", true],
      ["+/b/#", "a/c/d", false],
    ])("%j vs %j → %s", (filter, topic, expected) => {
      expect(topicMatches(filter, topic)).toBe(expected);
    });
  });

  describe("$ topics are not matched by leading wildcards", () => {
    it.each([
      ["#", "$SYS/broker/uptime", false],
      ["+/broker/uptime", "$SYS/broker/uptime", false],
      ["+/#", "$SYS/broker", false],
      ["+", "$SYS", false],
      ["$SYS/#", "$SYS/broker/uptime", true],
      ["$SYS/+/uptime", "$SYS/broker/uptime", true],
      ["$SYS/broker/uptime", "$SYS/broker/uptime", true],
      // Only a leading '$' is special: a '$' further in is an ordinary character.
      ["a/#", "a/$b", true],
      ["+/+", "a/$b", true],
      ["#", "a/$SYS", true],
    ])("%j vs %j → %s", (filter, topic, expected) => {
      expect(topicMatches(filter, topic)).toBe(expected);
    });
  });

  describe("empty levels are levels", () => {
    it.each([
      ["a//b", "a//b", true],
      ["a//b", "a/b", false],
      ["a/b", "a//b", false],
      ["a/+/b", "a//b", true],
      ["a/+/b", "a/b", false],
      ["a/#", "a//b", true],
      ["/a", "/a", true],
      ["/a", "a", false],
      ["+/a", "/a", true],
      ["a/", "a/", true],
      ["a/", "a", false],
    ])("%j vs %j → %s", (filter, topic, expected) => {
      expect(topicMatches(filter, topic)).toBe(expected);
    });
  });
});
