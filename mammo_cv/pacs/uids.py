"""UIDs derived from the source image and the configuration, so a rerun replaces its objects."""

import pydicom.uid


def derived_uid(source_sop_instance_uid: str, config_digest: str, role: str) -> str:
    """Return a UID fixed by the source instance, the config digest and the object's role.

    Parameters
    ----------
    source_sop_instance_uid : str
        SOP Instance UID of the analysed image.
    config_digest : str
        Digest of the configuration that produced the findings.
    role : str
        Which UID of which object, e.g. ``"seg-series"`` or ``"seg-instance"``.

    Returns
    -------
    str
        A UID under pydicom's root (2.25 style hashing of the three inputs).

    Examples
    --------
    >>> derived_uid("1.2.3", "abc", "seg-series") == derived_uid("1.2.3", "abc", "seg-series")
    True
    >>> derived_uid("1.2.3", "abc", "seg-series") != derived_uid("1.2.3", "abc", "seg-instance")
    True
    """
    return pydicom.uid.generate_uid(entropy_srcs=[source_sop_instance_uid, config_digest, role])
