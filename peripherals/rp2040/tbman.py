from .sysinfo import TbMan

MODEL = TbMan
