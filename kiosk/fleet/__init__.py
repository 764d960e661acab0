"""The fleet link over MQTT (issue 14 §5): each site's health, doors, alarms and counters out to
the fleet's broker, signed remote commands in. Protocol only — topics, message envelopes,
command signing and checking, the paho-mqtt connection; the loops that run it over the
database and the controller are kiosk/service/fleet*.py. docs/fleet.md describes it."""
