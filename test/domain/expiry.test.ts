// Which active anchors expire within the warning window: a pure rule the alerts and the console share.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daysLeft, expiringAnchors } from '../../src/domain/expiry.js';
import type { CertificateRecord } from '../../src/domain/model.js';

const DAY = 86_400;
const NOW = 1_800_000_000;

function cert(id: string, expiresAt: number, name: string | null = id): CertificateRecord {
  return { id, name, fingerprint: id, content: '', validAt: NOW - DAY, expiresAt, createdAt: NOW - DAY, filterExpression: null, filterUpdatedAt: null, crl: null };
}

describe('expiringAnchors', () => {
  const certificates = [
    cert('cert_far', NOW + 31 * DAY),
    cert('cert_edge', NOW + 30 * DAY),
    cert('cert_soon', NOW + 3 * DAY + 100, null),
    cert('cert_gone', NOW - 2 * DAY),
    cert('cert_idle', NOW + DAY),
  ];
  const activations = [
    { certificateId: 'cert_far', scope: 'organization' },
    { certificateId: 'cert_edge', scope: 'proj_b' },
    { certificateId: 'cert_soon', scope: 'proj_b' },
    { certificateId: 'cert_soon', scope: 'organization' },
    { certificateId: 'cert_soon', scope: 'proj_a' },
    { certificateId: 'cert_gone', scope: 'proj_a' },
  ];

  it('lists active anchors expiring within the window, expired ones first, with every scope', () => {
    assert.deepEqual(expiringAnchors(certificates, activations, NOW, 30), [
      { certificateId: 'cert_gone', name: 'cert_gone', scopes: ['proj_a'], expiresAt: NOW - 2 * DAY, daysLeft: -2 },
      { certificateId: 'cert_soon', name: null, scopes: ['organization', 'proj_a', 'proj_b'], expiresAt: NOW + 3 * DAY + 100, daysLeft: 3 },
      { certificateId: 'cert_edge', name: 'cert_edge', scopes: ['proj_b'], expiresAt: NOW + 30 * DAY, daysLeft: 30 },
    ]);
  });

  it('leaves out anchors active nowhere, and follows the window and the clock', () => {
    assert.ok(!expiringAnchors(certificates, activations, NOW, 30).some((a) => a.certificateId === 'cert_idle'));
    assert.deepEqual(expiringAnchors(certificates, activations, NOW, 0).map((a) => a.certificateId), ['cert_gone']);
    assert.deepEqual(expiringAnchors(certificates, activations, NOW + 2 * DAY, 30).map((a) => a.certificateId), ['cert_gone', 'cert_soon', 'cert_edge', 'cert_far']);
    assert.deepEqual(expiringAnchors(certificates, [], NOW, 365), []);
  });

  it('counts whole days left, rounded down', () => {
    assert.equal(daysLeft(NOW + DAY - 1, NOW), 0);
    assert.equal(daysLeft(NOW + DAY, NOW), 1);
    assert.equal(daysLeft(NOW - 1, NOW), -1);
  });
});
