"""Model and weights files: safetensors plus JSON metadata, never pickle.

The file format and the order of its checks are described in
:mod:`glassnet.saving.api`. The package, from the outside in:

* ``api``: ``save_model``, ``load_model``, ``save_weights``, ``load_weights``
  (what ``Model.save``, ``models.load_model`` and the callbacks call);
* ``registration``: ``register_serializable`` (Keras'
  ``register_keras_serializable``), ``custom_objects`` and
  ``custom_object_scope``: how a user's layer classes are found by name;
* ``spec``: every config field and tensor of a file checked before anything is
  allocated, and the model rebuilt layer by layer from allow-listed classes;
* ``restore``: optimizer slots, iterations and generator states into a model;
* ``container``: the safetensors container itself (layout, checksum, atomic
  writes);
* ``trained_input``: the record of the training inputs' dtype and range.

It knows the model classes only through :data:`MODELS`, which
``glassnet.models`` fills in, so that saving sits below the models and the
callbacks that use it.
"""

# The public names are api's (its __all__), one list for both.
from glassnet.saving.api import *  # noqa: F403
from glassnet.saving.api import __all__  # noqa: F401
