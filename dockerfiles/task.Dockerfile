# A thin per-task layer over an environment image: the task's setup patch committed on /testbed
# with the fixed identity, so HEAD is the same base commit the local sandbox prepares.
ARG ENV_IMAGE
FROM ${ENV_IMAGE}
COPY setup.sh /tmp/swe-srl-setup.sh
RUN bash /tmp/swe-srl-setup.sh && rm /tmp/swe-srl-setup.sh
