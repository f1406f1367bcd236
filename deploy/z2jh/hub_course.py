# Loaded by the hub pod from /usr/local/etc/jupyterhub/jupyterhub_config.d/ (hub.extraFiles.course).
# Course roles are hub groups (nbgrader's convention): nbgrader-kam-cert for learners,
# formgrade-kam-cert for instructors; the OIDC provider sends them (manage_groups).
# Learners keep the keyless learner image of singleuser.image; instructors get the course image, the ngshare
# address their `course` commands use, the gradebook's URL (hub.extraEnv, from a Secret) and the label the
# gradebook's NetworkPolicy admits (learners' pods cannot reach PostgreSQL at all: privateIPs: false).
import os

c = get_config()  # noqa: F821


def _image_by_role(spawner):
    groups = {g.name for g in spawner.user.groups}
    if "formgrade-kam-cert" in groups:
        spawner.image = "registry.example.cn/kam-cert/instructor:2026.12"
        spawner.environment["COURSE_NGSHARE_URL"] = "http://proxy-public/services/ngshare"
        spawner.environment["COURSE_DB_URL"] = os.environ["COURSE_DB_URL"]
        spawner.extra_labels["kam-cert/gradebook"] = "true"


c.KubeSpawner.pre_spawn_hook = _image_by_role
