#!/usr/bin/env node
/**
 * The `wasmgoose` executable for Node.js and Bun (`npx wasmgoose`).
 *
 * @module
 */
import { runCli } from "./cli.ts";

runCli();
