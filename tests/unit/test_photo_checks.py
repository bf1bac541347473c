"""The pure photo rules (app/domain/photos.py) and the image adapter (app/photos/images.py)."""
import io

import pytest
from PIL import Image

from app.domain.photos import (PhotoMode, PhotoRefused, asks_photos, check_size, count_problem, mode_for,
                               modes_from_lists)
from app.photos.images import MAX_SIDE, reencode
from app.photos.storage import LocalStore, S3Store, new_key, valid_key
from tests.support.photos import GPS_MARK, jpeg, photo_with_metadata, png, webp


def test_reasons_not_in_the_map_ask_no_photos():
    modes = {"Faulty": "required", "Too small": "optional", "Odd": "bogus"}
    assert mode_for(modes, "Faulty") == PhotoMode.REQUIRED
    assert mode_for(modes, "Too small") == PhotoMode.OPTIONAL
    assert mode_for(modes, "Odd") == mode_for(modes, "Other") == mode_for(None, "Faulty") == PhotoMode.NOT_ASKED
    assert asks_photos(modes) and not asks_photos({}) and not asks_photos({"Odd": "bogus"})


def test_the_settings_lists_become_a_map_in_the_reasons_own_spelling():
    assert modes_from_lists(["Faulty", "Damaged", "Too small"], ["damaged"], ["FAULTY", "Lost"]) == {
        "Damaged": "required", "Faulty": "optional"}


def test_count_and_size_problems():
    assert count_problem(PhotoMode.REQUIRED, 0, 5, "Damaged").startswith("Add at least one photo")
    assert count_problem(PhotoMode.OPTIONAL, 0, 5, "Faulty") is None
    assert count_problem(PhotoMode.OPTIONAL, 6, 5, "Faulty") == "Add at most 5 photos per item."
    assert count_problem(PhotoMode.REQUIRED, 2, 1, "Faulty") == "Add at most 1 photo per item."
    check_size(10 * 1024 * 1024)
    for size in (0, 10 * 1024 * 1024 + 1):
        with pytest.raises(PhotoRefused):
            check_size(size)


@pytest.mark.parametrize("make", [jpeg, png, webp, photo_with_metadata])
def test_every_accepted_format_becomes_a_jpeg_with_no_metadata(make):
    photo = reencode(make())
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG" and photo.content_type == "image/jpeg"
    assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info
    assert GPS_MARK.encode() not in photo.data


def test_a_large_photo_is_scaled_down_and_transparency_is_flattened_on_white():
    out = io.BytesIO()
    Image.new("RGBA", (MAX_SIDE * 2, 100), (0, 0, 0, 0)).save(out, format="PNG")
    photo = reencode(out.getvalue())
    assert (photo.width, photo.height) == (MAX_SIDE, 50)
    assert Image.open(io.BytesIO(photo.data)).getpixel((10, 10)) >= (250, 250, 250)


def test_keys_are_random_and_only_their_shape_names_a_file(tmp_path):
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100 and all(valid_key(k) for k in keys)
    for bad in ("", "../" * 11, "a" * 31, "a" * 33, "a/" * 16, "\x00" * 32):
        assert not valid_key(bad)
    store = LocalStore(tmp_path)
    with pytest.raises(ValueError):
        store.put("../../escape", b"x", "image/jpeg")
    assert store.get("../../etc/passwd") is None
    store.delete("../../etc/passwd")  # nothing happens


class _GoneClient:
    """An S3-compatible store that answers 404 NoSuchKey to deleting a missing object."""

    class exceptions:
        from botocore.exceptions import ClientError

    def delete_object(self, **kwargs):
        raise self.exceptions.ClientError({"Error": {"Code": "NoSuchKey"}}, "DeleteObject")


def test_deleting_from_a_store_that_says_404_for_a_missing_object_is_harmless():
    S3Store("bucket", client=_GoneClient()).delete(new_key())
