"""Keras-style callbacks: one per file, sharing the bases in ``base.py`` and
``monitor.py``."""

from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.base import Callback, CallbackList, History
from glassnet.callbacks.csv_logger import CSVLogger
from glassnet.callbacks.early_stopping import EarlyStopping
from glassnet.callbacks.lambda_callback import LambdaCallback
from glassnet.callbacks.learning_rate_scheduler import LearningRateScheduler
from glassnet.callbacks.model_checkpoint import ModelCheckpoint
from glassnet.callbacks.monitor import MonitorCallback
from glassnet.callbacks.progbar import ProgbarLogger
from glassnet.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from glassnet.callbacks.tensorboard import TensorBoard
from glassnet.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
