"""GET /api/photos/<id>: one photo and its faces, each with its person."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint

from ..core.errors import error_responses, not_found
from ..core.models import PhotoDetail, PhotoFace, PhotoPath
from ..core.serialize import box_list, json_response
from ..core.state import state
from ..gallery.urls import face_crop_url, photo_model
from ..session.routes import PEOPLE_PAGES, is_organiser, require_people_access

bp = APIBlueprint("photos", __name__)


@bp.get(
    "/api/photos/<int:photo_id>",
    operation_id="getPhoto",
    summary="One photo and its faces, left to right",
    responses={
        200: PhotoDetail,
        **error_responses(
            {
                401: "login_required: the people pages are the organiser's (setting people_page)",
                404: "not_found: no such photo (or not any more; to a visitor, also a photo with a hidden person)",
            }
        ),
    },
    security=PEOPLE_PAGES,
)
def photo(path: PhotoPath):
    require_people_access()
    photo_id = path.photo_id
    index = state().index()
    if index is None:
        raise not_found(f"There is no photo {photo_id}.")
    organiser = is_organiser()  # a visitor is never told who a hidden person is
    with index.snapshot():
        info = index.photo_info(photo_id)
        # a photo with a hidden person (or a face taken for one) is, to a visitor, not in the gallery
        if info is None or photo_id in state().withheld(index, is_organiser()).photos:
            raise not_found(f"There is no photo {photo_id}; it may have been removed from the gallery.")
        faces = index.faces_with_people(photo_id)
    return json_response(
        PhotoDetail(
            photo=photo_model(info),
            faces=[
                PhotoFace(
                    id=f.face.id,
                    box=box_list(f.face.box),
                    probability=round(f.face.probability, 4),
                    person_id=None if f.person_hidden and not organiser else f.person_id,
                    crop_url=face_crop_url(f.face.id),
                )
                for f in faces
            ],
        )
    )
