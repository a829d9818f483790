/**
 * The argv each service manager runs. systemd itself is not available on test machines, so its commands are
 * checked here as argv; the `commands` manager runs for real in test/unit/activities/host.test.ts.
 */
import { serviceArgv } from '../../../src/ssh/service-control.js';

describe('serviceArgv', () => {
  it('drives systemctl, with sudo -n only for state changes when asked', () => {
    const sudo = { type: 'systemd' as const, sudo: true };
    expect(serviceArgv(sudo, 'start', 'neard')).toEqual(['sudo', '-n', 'systemctl', 'start', '--', 'neard']);
    expect(serviceArgv(sudo, 'stop', 'neard')).toEqual(['sudo', '-n', 'systemctl', 'stop', '--', 'neard']);
    expect(serviceArgv(sudo, 'isActive', 'neard')).toEqual(['systemctl', 'is-active', '--quiet', '--', 'neard']);
    expect(serviceArgv({ type: 'systemd', sudo: false }, 'stop', 'polkadot@ksm.service')).toEqual([
      'systemctl',
      'stop',
      '--',
      'polkadot@ksm.service',
    ]);
  });

  it('fills {service} into every element of a commands template', () => {
    const manager = {
      type: 'commands' as const,
      start: ['ctl', 'start', '{service}', '--log=/var/log/{service}.log'],
      stop: ['ctl', 'stop', '{service}'],
      isActive: ['ctl', 'status', '{service}'],
    };
    expect(serviceArgv(manager, 'start', 'neard')).toEqual(['ctl', 'start', 'neard', '--log=/var/log/neard.log']);
    expect(serviceArgv(manager, 'isActive', 'neard')).toEqual(['ctl', 'status', 'neard']);
  });

  it.each(['', '-neard', 'neard; reboot', 'a b', '$(id)', '../neard'])('refuses the service name %j', (name) => {
    expect(() => serviceArgv({ type: 'systemd', sudo: false }, 'stop', name)).toThrow(/not a plain service name/);
  });
});
