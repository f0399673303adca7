"""The experiment configuration: TOML in, frozen attrs objects out, every value checked.

One module per table (``simulation``, ``machine``, ``memory``, ``nic``, ``costs``,
``generator``, ``driver``, ``receiver``, ``oracles``); :func:`parse_config` puts
them together. Tables with a variant (the generator's timing pattern, the NIC
source) take the keys of the chosen registry entry too.
"""

from mintactors.config._config import Config, describe_config, load_config, parse_config
from mintactors.config._structure import structure, unknown_key_error
from mintactors.config._toml import apply_overrides, read_toml
from mintactors.config.costs import CostsConfig
from mintactors.config.driver import DriverConfig, InjectConfig
from mintactors.config.generator import GeneratorConfig
from mintactors.config.machine import ApicConfig, MachineConfig, NodeConfig, SharedMemoryConfig
from mintactors.config.memory import MEMORY_MODELS, MemoryConfig
from mintactors.config.nic import NicConfig
from mintactors.config.oracles import OraclesConfig
from mintactors.config.receiver import AppConfig, SocketConfig
from mintactors.config.simulation import SimulationConfig

__all__ = [
    "ApicConfig",
    "AppConfig",
    "Config",
    "CostsConfig",
    "DriverConfig",
    "GeneratorConfig",
    "InjectConfig",
    "MEMORY_MODELS",
    "MachineConfig",
    "MemoryConfig",
    "NicConfig",
    "NodeConfig",
    "OraclesConfig",
    "SharedMemoryConfig",
    "SimulationConfig",
    "SocketConfig",
    "apply_overrides",
    "describe_config",
    "load_config",
    "parse_config",
    "read_toml",
    "structure",
    "unknown_key_error",
]
