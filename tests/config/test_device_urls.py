"""Device URLs that urllib refuses or that hide a control character: DeviceURLError, never ValueError.

``registry.create`` (``kiosk run``) and ``registry.check`` (``kiosk check-config``) both
parse through ``DeviceURL.parse``; a plain ValueError from urllib used to escape both.
"""

from __future__ import annotations

import pytest

from kiosk.devices import registry
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError


@pytest.mark.parametrize("url", ["kerong+serial://[::1/dev/ttyUSB0", "kerong+serial://[zz]/x", "gpio://]:1/x",
                                 "kerong+serial:///dev/tty%00USB0", "gpio://?factory=\x01"])
def test_device_url_parse_raises_only_device_url_error(url):
    with pytest.raises(DeviceURLError):
        DeviceURL.parse(url)


def test_registry_check_and_create_report_it_as_a_device_error():
    for call in (registry.check, registry.create):
        with pytest.raises(DeviceURLError, match="Invalid IPv6 URL"):
            call("locks", "kerong+serial://[::1/dev/ttyUSB0")
