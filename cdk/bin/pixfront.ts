#!/usr/bin/env node
// `cdk synth|deploy -c key=value …`: the keys are listed in lib/context.ts and docs/deploy.md.
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/context';

buildApp(new App());
