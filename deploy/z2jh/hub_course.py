# Loaded by the hub pod from /usr/local/etc/jupyterhub/jupyterhub_config.d/ (hub.extraFiles.course).
# Course roles are hub groups (nbgrader's convention): nbgrader-kam-cert for learners,
# formgrade-kam-cert for instructors; the OIDC provider sends them (manage_groups).
# Learners keep the keyless learner image of singleuser.image; instructors get the course image, the ngshare
# address their `course` commands use, the gradebook's URL (hub.extraEnv, from a Secret) and the label the
# gradebook's NetworkPolicy admits (learners' pods cannot reach PostgreSQL at all: privateIPs: false).
# Certificates: instructors share one certificates folder (the office's key, the heads, the PDFs: the volume
# kam-certificates of certificates.yaml) and link every certificate to the verification page at the hub's public
# address (the ingress host), which the proxy routes to the kam-certificates service.
import os

c = get_config()  # noqa: F821

VERIFY_URL = "https://kam-cert.example.cn/services/certificates/"
CERTIFICATES_DIR = "/srv/kam-certificates"


def _image_by_role(spawner):
    groups = {g.name for g in spawner.user.groups}
    if "formgrade-kam-cert" in groups:
        spawner.image = "registry.example.cn/kam-cert/instructor:2026.12"
        spawner.environment["COURSE_NGSHARE_URL"] = "http://proxy-public/services/ngshare"
        spawner.environment["COURSE_DB_URL"] = os.environ["COURSE_DB_URL"]
        spawner.environment["COURSE_VERIFY_URL"] = VERIFY_URL
        spawner.environment["COURSE_CERTIFICATES_DIR"] = CERTIFICATES_DIR
        spawner.volumes = [*spawner.volumes, {"name": "kam-certificates",
                                              "persistentVolumeClaim": {"claimName": "kam-certificates"}}]
        spawner.volume_mounts = [*spawner.volume_mounts, {"name": "kam-certificates", "mountPath": CERTIFICATES_DIR}]
        spawner.extra_labels["kam-cert/gradebook"] = "true"


c.KubeSpawner.pre_spawn_hook = _image_by_role
