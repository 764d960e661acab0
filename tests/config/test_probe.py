"""`kiosk check-config --probe`: every configured device is opened and read, read-only,
and each answers on one line; a device that is missing or misconfigured is named with the
fix, and the exit status says so."""

from __future__ import annotations

from kiosk import cli
from kiosk.devices.probe import probe_devices
from hwsim.site import write_config

SERIAL = "sim+serial-scanner://?aim=1"


def test_a_simulated_site_answers_on_every_device(tmp_path, capsys):
    path = write_config(tmp_path / "site", locks="kerong", doors=4, scanner=SERIAL)
    assert cli.main(["check-config", str(path), "--probe"]) == 0
    out = capsys.readouterr().out
    assert "ok  devices.locks" in out and "4 doors answered (4 closed)" in out
    assert "ok  devices.scanner" in out


def test_a_missing_serial_port_is_named_and_fails(tmp_path, capsys):
    path = write_config(tmp_path / "site", locks="kerong+serial:///dev/does-not-exist?boards=1")
    assert cli.main(["check-config", str(path), "--probe"]) == 1
    out = capsys.readouterr().out
    assert "BAD devices.locks" in out and "/dev/does-not-exist" in out


def test_a_missing_gpio_backend_names_the_extra():
    [result] = probe_devices({"locks": "gpio://?solenoids=17&doors=5&factory=pigpio"})
    assert not result.ok
    assert "'pigpio' is missing" in result.detail


def test_a_probe_pulses_no_lock(mocker):
    """Probing opens and reads the bank; no door is ever unlocked."""
    from kiosk.devices import registry
    made = []
    real_create = registry.create

    def create(role, url, **context):
        device = real_create(role, url, **context)
        made.append(mocker.spy(device, "unlock"))
        return device
    mocker.patch.object(registry, "create", create)
    [result] = probe_devices({"locks": "sim+kerong://?boards=1&doors=3"})
    assert result.ok and "3 doors answered (3 closed)" in result.detail
    assert len(made) == 1 and made[0].call_count == 0
