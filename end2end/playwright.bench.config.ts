import base from './playwright.config';
import { defineConfig } from '@playwright/test';

// `make bench` only: many pages at once, measuring change-to-DOM latency.
export default defineConfig({ ...base, testDir: './bench', timeout: 120_000 });
