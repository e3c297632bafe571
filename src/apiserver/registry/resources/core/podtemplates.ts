/** PodTemplates: a defaulted, validated pod template; generation moves when it changes. */
import type { Strategy } from '../../strategy.js';
import { deepEqual } from '../../../../machinery/json-value.js';
import { defaultPodTemplateSpec } from './pod-spec-defaults.js';
import { validatePodTemplateSpec } from './pod-spec-validation.js';

export const podTemplateStrategy: Strategy = {
  default(obj) {
    defaultPodTemplateSpec(obj.template);
  },
  prepareForCreate(obj) {
    if (obj.metadata) obj.metadata.generation = 1;
  },
  validate: (obj) => validatePodTemplateSpec(obj.template, 'template'),
  prepareForUpdate(obj, old) {
    if (!obj.metadata) return;
    const gen = old.metadata?.generation ?? 1;
    obj.metadata.generation = deepEqual(obj.template, old.template) ? gen : gen + 1;
  },
  validateUpdate: (obj) => validatePodTemplateSpec(obj.template, 'template'),
};
