"""The fleet over MQTT, simulated: a private Mosquitto broker (``broker``), a test CA
(``pki``), light sites that carry only a fleet link (``sites``), an operator who
listens and sends signed commands (``operator``), and a TCP path that can lose the
network (``netcut``). Used by ``hwsim fleet``, ``hwsim scenario fleet-day``, the fleet
benchmark and tests/fleet."""
