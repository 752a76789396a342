__title__ = "modelsclient"
__version__ = "0.1.0"
